/* "Sync now" on a connection's page: queues the sync, then asks its status every 2 s and shows
   each reference type's state in place (waiting, syncing, done with its counts, failed with
   the reason) until every type has ended. Nothing is polled before the button is pressed. */
(function () {
  "use strict";

  var STATE_WORDS = {
    waiting: "Waiting",
    syncing: "Syncing…",
    done: "Done",
    failed: "Failed",
    "not offered": "Not offered by this accounting system",
    "never synced": "Never synced"
  };

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (input) return input.value;
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function result(row) {
    if (row.state === "failed") return row.reason;
    var c = row.counts;
    if (!c || row.state === "waiting") return "";
    return c.created + " new, " + c.updated + " changed, " + c.unchanged + " unchanged, " +
      c.archived + " archived, " + c.skipped + " skipped";
  }

  function show(box, types) {
    var table = box.querySelector(".refs-sync__types");
    var body = table.querySelector("tbody");
    body.textContent = "";
    types.forEach(function (row) {
      var tr = document.createElement("tr");
      tr.dataset.type = row.type;
      tr.dataset.state = row.state;
      [row.label, STATE_WORDS[row.state] || row.state, result(row)].forEach(function (text, i) {
        var cell = document.createElement(i === 0 ? "th" : "td");
        if (i === 0) cell.scope = "row";
        cell.textContent = text;
        tr.appendChild(cell);
      });
      body.appendChild(tr);
    });
    table.hidden = false;
  }

  function getJson(url, options) {
    return fetch(url, Object.assign({ credentials: "same-origin", cache: "no-store",
      headers: { Accept: "application/json", "X-CSRFToken": csrfToken() } }, options || {}))
      .then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok) throw new Error(body.message || body.error || "HTTP " + response.status);
          return body;
        });
      });
  }

  function follow(box, url, button) {
    var said = box.querySelector(".refs-sync__said");
    function poll() {
      getJson(url).then(function (body) {
        show(box, body.types);
        if (!body.finished) {
          setTimeout(poll, 2000);
          return;
        }
        var failed = body.types.filter(function (row) { return row.state === "failed"; });
        said.textContent = failed.length
          ? "Sync finished: " + failed.length + " reference type(s) failed."
          : "Sync finished: every reference type is up to date.";
        button.disabled = false;
      }).catch(function () { setTimeout(poll, 5000); });
    }
    setTimeout(poll, 1000);
  }

  function start(box) {
    var button = box.querySelector(".refs-sync__start");
    var said = box.querySelector(".refs-sync__said");
    button.addEventListener("click", function () {
      button.disabled = true;
      said.textContent = "Sync queued…";
      getJson(box.dataset.syncUrl, { method: "POST" }).then(function (body) {
        show(box, body.types);
        follow(box, body.status_url, button);
      }).catch(function (error) {
        said.textContent = "The sync could not be started: " + error.message;
        button.disabled = false;
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".refs-sync[data-sync-url]").forEach(start);
  });
})();
