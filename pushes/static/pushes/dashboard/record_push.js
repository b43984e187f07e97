// A record's push panel follows the push live: it asks the status endpoint every 2 s while
// a push is in progress (every 15 s otherwise), and swaps the badge and history in place; when
// the state changes it asks once more for the buttons, which depend on it.
(function () {
  "use strict";
  function start(panel) {
    var url = panel.dataset.statusUrl;
    var timer = null;

    function part(name) { return panel.querySelector('[data-record-part="' + name + '"]'); }

    function schedule(pushing) {
      clearTimeout(timer);
      if (!document.hidden) {
        timer = setTimeout(function () { poll(false); }, pushing ? 2000 : 15000);
      }
    }

    function poll(withButtons) {
      fetch(url + (withButtons ? "?buttons=1" : ""), { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.json();
        })
        .then(function (body) {
          Object.keys(body.parts).forEach(function (name) {
            var el = part(name);
            if (el && el.dataset.html !== body.parts[name]) {
              el.innerHTML = body.parts[name];
              el.dataset.html = body.parts[name];
            }
          });
          // The form's read-only copies of the same facts follow too.
          var id = document.querySelector(".field-provider_record_id .readonly");
          // Cleared by a delete: the admin shows an empty value as "-".
          if (id) id.textContent = body.providerRecordId || "-";
          var badge = document.querySelector(".field-push_state .readonly .push-state");
          if (badge) {
            badge.textContent = body.label;
            badge.className = "push-state push-state--" + body.tone;
          }
          var changed = panel.dataset.state !== body.state;
          panel.dataset.state = body.state;
          if (changed && !withButtons) return poll(true);
          schedule(body.pushing);
        })
        .catch(function () { schedule(false); });
    }

    document.addEventListener("visibilitychange", function () {
      if (document.hidden) clearTimeout(timer);
      else poll(false);
    });
    var first = part("state").querySelector("[data-state]");
    panel.dataset.state = first ? first.dataset.state : "";
    schedule(panel.dataset.state === "pushing");
  }

  document.addEventListener("DOMContentLoaded", function () {
    var panel = document.getElementById("rp-push-panel");
    if (panel) start(panel);
  });
})();
