// The home dashboard refreshes itself: every few seconds it fetches its parts as HTML and swaps
// the ones that changed, without reloading the page. It pauses while the tab is hidden and
// refreshes at once when the tab comes back.
(function () {
  "use strict";
  function start(root) {
    var url = root.dataset.refreshUrl;
    var every = (parseInt(root.dataset.refreshSeconds, 10) || 5) * 1000;
    var updated = root.querySelector("[data-dashboard-updated]");
    var timer = null;
    var busy = false;

    function schedule() {
      clearTimeout(timer);
      if (!document.hidden) timer = setTimeout(refresh, every);
    }

    function swap(name, html) {
      var part = root.querySelector('[data-dashboard-part="' + name + '"]');
      if (!part || part.dataset.html === html) return;
      // Keep open <details> open across a swap, so a person reading one is not interrupted.
      var open = Array.prototype.map.call(part.querySelectorAll("details[open]"), function (d) {
        var row = d.closest("[data-connection]");
        return row ? row.dataset.connection : null;
      });
      part.innerHTML = html;
      part.dataset.html = html;
      open.forEach(function (key) {
        if (!key) return;
        var row = part.querySelector('[data-connection="' + key + '"] details');
        if (row) row.open = true;
      });
    }

    function refresh() {
      if (busy || document.hidden) return schedule();
      busy = true;
      fetch(url, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.json();
        })
        .then(function (body) {
          Object.keys(body.parts).forEach(function (name) { swap(name, body.parts[name]); });
          var at = new Date(body.generatedAt);
          updated.textContent = "Updated " + at.toISOString().substr(11, 8) + " UTC";
          root.dataset.refreshed = String((parseInt(root.dataset.refreshed, 10) || 0) + 1);
        })
        .catch(function (error) {
          updated.textContent = "Could not refresh (" + error.message + "); retrying";
        })
        .then(function () { busy = false; schedule(); });
    }

    document.addEventListener("visibilitychange", function () {
      if (document.hidden) clearTimeout(timer);
      else refresh();
    });
    schedule();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var root = document.getElementById("rp-dashboard");
    if (root) start(root);
  });
})();
