/* A payment's allocations while they are edited.

   Once the customer (or vendor) is chosen, their open documents in this connection are
   listed (number, dates, currency, total, amount due; oldest first, from the mirror through
   the composer's open-documents address) with an amount to pay against each, a "Pay in full"
   per document and for all, and a running total. Each amount typed writes the payment's line
   for that document (adding, changing or removing it), so saving writes exactly those
   allocations; the lines' document picker offers only that party's documents.

   Choosing a document in a line still pays it in full unless an amount is typed, and the
   payment's total follows the sum of its lines until the person types another.
   A convenience only: the server checks every amount against what is still due. */
(function () {
  "use strict";

  var LINES = "#lines-group tr.form-row:not(.empty-form)";

  function number(value) {
    var parsed = parseFloat(String(value || "").replace(/,/g, ""));
    return isNaN(parsed) ? NaN : parsed;
  }

  function money(value) {
    return (Math.round(value * 100) / 100).toFixed(2);
  }

  function liveRows() {
    return Array.prototype.filter.call(document.querySelectorAll(LINES), function (row) {
      var deleted = row.querySelector("input[name$='-DELETE']");
      return !(deleted && deleted.checked) && row.querySelector("select[name$='-document']");
    });
  }

  function sum() {
    var total = 0;
    liveRows().forEach(function (row) {
      var value = number(row.querySelector("input[name$='-amount']").value);
      if (!isNaN(value)) total += value;
    });
    return Math.round(total * 10000) / 10000;
  }

  function follow() {
    var total = document.querySelector("#id_total_amount");
    if (!total || total.dataset.typed === "true") return;
    total.value = sum().toFixed(2);
  }

  function payInFull(select) {
    var row = select.closest("tr");
    var amount = row && row.querySelector("input[name$='-amount']");
    var option = select.options[select.selectedIndex];
    var match = option && option.text.match(/·\s*([\d,]+(?:\.\d+)?)\s*[A-Z]*\s*due\s*$/);
    if (amount && match && !amount.value) amount.value = match[1].replace(/,/g, "");
    follow();
  }

  /* --- the lines, written from the table ------------------------------------------------ */

  function lineOf(documentId) {
    return liveRows().find(function (row) {
      return row.querySelector("select[name$='-document']").value === String(documentId);
    });
  }

  function emptyLine() {
    var free = liveRows().find(function (row) {
      return !row.querySelector("select[name$='-document']").value;
    });
    if (free) return free;
    var add = document.querySelector("#lines-group .add-row a");
    if (!add) return null;
    add.click();
    var rows = liveRows();
    return rows[rows.length - 1] || null;
  }

  function choose(select, doc) {
    var option = Array.prototype.find.call(select.options, function (o) {
      return o.value === String(doc.id);
    });
    if (!option) {
      option = new Option(doc.label, String(doc.id), true, true);
      select.appendChild(option);
    }
    select.value = String(doc.id);
    if (window.django && window.django.jQuery) window.django.jQuery(select).trigger("change");
  }

  function writeLine(doc, amountText) {
    var row = lineOf(doc.id);
    var amount = number(amountText);
    if (isNaN(amount) || amount === 0) {
      if (!row) return;
      var deleted = row.querySelector("input[name$='-DELETE']");
      if (deleted) {
        deleted.checked = true;
      } else {
        row.querySelector("input[name$='-amount']").value = "";
        var select = row.querySelector("select[name$='-document']");
        select.value = "";
        if (window.django && window.django.jQuery) window.django.jQuery(select).trigger("change");
      }
      return;
    }
    row = row || emptyLine();
    if (!row) return;
    // The amount first: choosing the document then keeps it instead of paying in full.
    row.querySelector("input[name$='-amount']").value = amountText.trim();
    choose(row.querySelector("select[name$='-document']"), doc);
  }

  /* --- the lines' picker offers only the party's documents ------------------------------ */

  function scopePickers(partyId) {
    if (!(window.django && window.django.jQuery)) return;
    var $ = window.django.jQuery;
    document.querySelectorAll(LINES + " select[name$='-document']").forEach(function (select) {
      var select2 = $(select).data("select2");
      if (!select2 || !select2.dataAdapter || !select2.dataAdapter.ajaxOptions) return;
      var base = select.dataset.ajaxUrlWithoutParty || select.getAttribute("data-ajax--url");
      select.dataset.ajaxUrlWithoutParty = base;
      select2.dataAdapter.ajaxOptions.url = partyId
        ? base + (base.indexOf("?") < 0 ? "?" : "&") + "party=" + encodeURIComponent(partyId)
        : base;
    });
  }

  /* --- the table of open documents ------------------------------------------------------ */

  function cell(tag, text, className) {
    var element = document.createElement(tag);
    if (text !== undefined && text !== null) element.textContent = text;
    if (className) element.className = className;
    return element;
  }

  function Allocations(party) {
    this.party = party;
    this.url = party.dataset.openDocuments;
    this.partyNoun = party.dataset.partyNoun || "party";
    this.noun = party.dataset.documentNoun || "document";
    this.box = cell("section", null, "rp-allocations");
    this.box.setAttribute("aria-label", "Open " + this.noun + "s");
    this.box.id = "open-documents";
    var lines = document.querySelector("#lines-group");
    lines.parentNode.insertBefore(this.box, lines);
    this.documents = [];
    this.say("Choose the " + this.partyNoun + " to see their open " + this.noun + "s.");
  }

  Allocations.prototype.say = function (text) {
    this.box.replaceChildren(cell("p", text, "help rp-allocations__note"));
  };

  Allocations.prototype.load = function () {
    var partyId = this.party.value;
    scopePickers(partyId);
    if (!partyId) {
      this.documents = [];
      this.say("Choose the " + this.partyNoun + " to see their open " + this.noun + "s.");
      return;
    }
    var self = this;
    this.say("Looking up the open " + this.noun + "s…");
    fetch(this.url + "&party=" + encodeURIComponent(partyId), {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(function (body) {
        if (self.party.value !== partyId) return;
        self.documents = body.documents;
        self.render();
      })
      .catch(function () {
        self.say("The open " + self.noun + "s could not be listed; choose them in the lines below.");
      });
  };

  Allocations.prototype.render = function () {
    var self = this;
    if (!this.documents.length) {
      this.say("This " + this.partyNoun + " has no open " + this.noun + "s in this connection.");
      return;
    }
    var table = cell("table", null, "rp-allocations__table");
    table.appendChild(cell("caption", "Open " + this.noun + "s of this " + this.partyNoun +
      ", oldest first: type what this payment pays on each."));
    var head = table.createTHead().insertRow();
    ["Number", "Date", "Due date", "Currency", "Total", "Amount due", "Pay", ""].forEach(
      function (title) {
        var th = cell("th", title);
        th.scope = "col";
        head.appendChild(th);
      }
    );
    var body = table.createTBody();
    this.inputs = [];
    this.documents.forEach(function (doc) {
      var row = body.insertRow();
      row.dataset.document = doc.id;
      var th = cell("th", doc.number);
      th.scope = "row";
      row.appendChild(th);
      row.appendChild(cell("td", doc.date || ""));
      row.appendChild(cell("td", doc.due_date || ""));
      row.appendChild(cell("td", doc.currency));
      row.appendChild(cell("td", doc.total, "rp-num"));
      row.appendChild(cell("td", doc.amount_due, "rp-num"));
      var input = document.createElement("input");
      input.type = "text";
      input.inputMode = "decimal";
      input.size = 10;
      input.className = "rp-num";
      input.setAttribute("aria-label", "Pay on " + self.noun + " " + doc.number);
      var line = lineOf(doc.id);
      if (line) input.value = line.querySelector("input[name$='-amount']").value;
      input.addEventListener("input", function () {
        writeLine(doc, input.value);
        self.total();
      });
      var pay = cell("td");
      pay.appendChild(input);
      row.appendChild(pay);
      var button = cell("button", "Pay in full", "button");
      button.type = "button";
      button.setAttribute("aria-label", "Pay " + doc.number + " in full");
      button.addEventListener("click", function () {
        input.value = doc.amount_due;
        writeLine(doc, input.value);
        self.total();
      });
      var action = cell("td");
      action.appendChild(button);
      row.appendChild(action);
      self.inputs.push({ doc: doc, input: input });
    });
    var foot = table.createTFoot().insertRow();
    var label = cell("th", "Applied by this payment");
    label.scope = "row";
    label.colSpan = 6;
    foot.appendChild(label);
    this.output = cell("output", "0.00", "rp-num");
    this.output.setAttribute("aria-live", "polite");
    var totalCell = cell("td", null, "rp-num");
    totalCell.appendChild(this.output);
    foot.appendChild(totalCell);
    var all = cell("button", "Pay all in full", "button");
    all.type = "button";
    all.addEventListener("click", function () {
      self.inputs.forEach(function (item) {
        item.input.value = item.doc.amount_due;
        writeLine(item.doc, item.input.value);
      });
      self.total();
    });
    var allCell = cell("td");
    allCell.appendChild(all);
    foot.appendChild(allCell);
    this.box.replaceChildren(table);
    this.total();
  };

  Allocations.prototype.total = function () {
    var total = 0;
    (this.inputs || []).forEach(function (item) {
      var value = number(item.input.value);
      if (!isNaN(value)) total += value;
    });
    if (this.output) this.output.textContent = money(total);
    follow();
  };

  document.addEventListener("DOMContentLoaded", function () {
    var total = document.querySelector("#id_total_amount");
    if (!total || !document.querySelector("select[name$='-document']")) return;
    if (total.value) total.dataset.typed = "true";
    total.addEventListener("input", function () { total.dataset.typed = "true"; });
    document.addEventListener("input", function (event) {
      if (event.target.matches("input[name$='-amount']")) follow();
    });
    var party = document.querySelector("select[data-open-documents]");
    var allocations = party ? new Allocations(party) : null;
    if (window.django && window.django.jQuery) {
      var $ = window.django.jQuery;
      $(document).on("select2:select change", "select[name$='-document']", function () {
        payInFull(this);
      });
      if (allocations) {
        $(party).on("change", function () { allocations.load(); });
        // After the autocompletes are set up (Django's script runs on the same event).
        window.setTimeout(function () { allocations.load(); }, 0);
        document.addEventListener("formset:added", function () {
          window.setTimeout(function () { scopePickers(party.value); }, 0);
        });
      }
    }
  });
})();
