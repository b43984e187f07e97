/* A record list follows the records it shows that are being pushed (after a bulk push, say):
   each one's state is asked from its push-status endpoint every 2 s until the outcome arrives,
   and the outcome replaces the badge in place, with the reason when it failed, and is announced
   once in the list's live region. Nothing is polled when nothing is pushing. */
(function () {
  "use strict";

  function announce(text) {
    var region = document.getElementById("record-list-outcomes");
    if (!region) return;
    var item = document.createElement("li");
    item.textContent = text;
    region.appendChild(item);
    region.hidden = false;
  }

  function follow(badge) {
    var url = badge.dataset.statusUrl;
    function poll() {
      fetch(url, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.json();
        })
        .then(function (body) {
          badge.textContent = body.label;
          badge.className = "push-state push-state--" + body.tone;
          badge.dataset.state = body.state;
          if (body.pushing) {
            setTimeout(poll, 2000);
            return;
          }
          var latest = body.history && body.history[0];
          var why = latest && latest.message ? latest.message : "";
          var cell = badge.parentNode.querySelector("[data-why]");
          if (cell) cell.textContent = why;
          announce(badge.dataset.record + ": " + body.label + (why ? ". " + why : ""));
        })
        .catch(function () { setTimeout(poll, 5000); });
    }
    setTimeout(poll, 1000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("#result_list .push-state[data-state='pushing'][data-status-url]")
      .forEach(follow);
  });
})();
