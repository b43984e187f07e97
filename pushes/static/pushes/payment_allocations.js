/* A payment's allocations while they are edited.

   Once the customer (or vendor) is chosen, their open documents in this connection are
   listed (number, dates, currency, total, amount due; oldest first, from the mirror through
   the composer's open-documents address) with an amount to pay against each, a "Pay in full"
   per document and for all, and a running total; then their open credit notes, with the
   credit to apply from each. Each amount typed writes the payment's line for that document
   or credit note (adding, changing or removing it), so saving writes exactly those
   allocations; an amount typed in the lines shows in the table too. The lines' pickers offer
   only that party's documents and credit notes.

   Credit applied pays the documents alongside the money: the total is what is paid on
   documents less the credit applied.

   Choosing a document in a line still pays it in full unless an amount is typed, and the
   payment's total follows the sum of its lines until the person types another.
   A convenience only: the server checks every amount against what is still due. */
(function () {
  "use strict";

  var LINES = "#lines-group tr.form-row:not(.empty-form)";
  var LINKS = ["document", "credit_note"];
  var PICKERS = LINKS.map(function (name) { return "select[name$='-" + name + "']"; }).join(", ");

  function picker(row, field) {
    return row.querySelector("select[name$='-" + field + "']");
  }

  function isCredit(row) {
    var select = picker(row, "credit_note");
    return !!(select && select.value);
  }

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
      if (!isNaN(value)) total += isCredit(row) ? -value : value;
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

  function lineOf(doc) {
    return liveRows().find(function (row) {
      var select = picker(row, doc.field);
      return select && select.value === String(doc.id);
    });
  }

  function emptyLine() {
    var free = liveRows().find(function (row) {
      return LINKS.every(function (name) {
        var select = picker(row, name);
        return !select || !select.value;
      });
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
    var row = lineOf(doc);
    var amount = number(amountText);
    if (isNaN(amount) || amount === 0) {
      if (!row) return;
      var deleted = row.querySelector("input[name$='-DELETE']");
      if (deleted) {
        deleted.checked = true;
      } else {
        row.querySelector("input[name$='-amount']").value = "";
        var select = picker(row, doc.field);
        select.value = "";
        if (window.django && window.django.jQuery) window.django.jQuery(select).trigger("change");
      }
      return;
    }
    row = row || emptyLine();
    if (!row) return;
    // The amount first: choosing the document then keeps it instead of paying in full.
    row.querySelector("input[name$='-amount']").value = amountText.trim();
    choose(picker(row, doc.field), doc);
  }

  /* --- the lines' pickers offer only the party's documents and credit notes -------------- */

  function scopePickers(partyId) {
    if (!(window.django && window.django.jQuery)) return;
    var $ = window.django.jQuery;
    var selects = LINKS.map(function (name) { return LINES + " select[name$='-" + name + "']"; });
    document.querySelectorAll(selects.join(", ")).forEach(function (select) {
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

  Allocations.prototype.row = function (body, doc) {
    var self = this;
    var credit = doc.kind === "creditNote";
    var row = body.insertRow();
    row.dataset.document = doc.id;
    row.dataset.kind = doc.kind;
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
    input.setAttribute(
      "aria-label",
      (credit ? "Apply from credit note " : "Pay on " + self.noun + " ") + doc.number
    );
    input.addEventListener("input", function () {
      writeLine(doc, input.value);
      self.total();
    });
    var pay = cell("td");
    pay.appendChild(input);
    row.appendChild(pay);
    var button = cell("button", credit ? "Apply all" : "Pay in full", "button");
    button.type = "button";
    button.setAttribute(
      "aria-label", credit ? "Apply all of " + doc.number : "Pay " + doc.number + " in full"
    );
    button.addEventListener("click", function () {
      input.value = doc.amount_due;
      writeLine(doc, input.value);
      self.total();
    });
    var action = cell("td");
    action.appendChild(button);
    row.appendChild(action);
    this.inputs.push({ doc: doc, input: input });
  };

  Allocations.prototype.render = function () {
    var self = this;
    var documents = this.documents.filter(function (doc) { return doc.kind !== "creditNote"; });
    var credits = this.documents.filter(function (doc) { return doc.kind === "creditNote"; });
    if (!this.documents.length) {
      this.say("This " + this.partyNoun + " has no open " + this.noun + "s in this connection.");
      return;
    }
    var table = cell("table", null, "rp-allocations__table");
    table.appendChild(cell("caption", "Open " + this.noun + "s of this " + this.partyNoun +
      ", oldest first: type what this payment pays on each" +
      (credits.length ? ", and the credit it applies from each credit note." : ".")));
    var head = table.createTHead().insertRow();
    ["Number", "Date", "Due date", "Currency", "Total", "Amount due", "Pay", ""].forEach(
      function (title) {
        var th = cell("th", title);
        th.scope = "col";
        head.appendChild(th);
      }
    );
    this.inputs = [];
    var body = table.createTBody();
    documents.forEach(function (doc) { self.row(body, doc); });
    if (credits.length) {
      var creditBody = table.createTBody();
      creditBody.className = "rp-allocations__credits";
      var title = cell("th", "Credit notes: remaining credit, applied against what is paid");
      title.colSpan = 8;
      title.scope = "rowgroup";
      creditBody.insertRow().appendChild(title);
      credits.forEach(function (doc) { self.row(creditBody, doc); });
    }
    var foot = table.createTFoot().insertRow();
    var label = cell("th", "Applied by this payment" + (credits.length ? " (less credit)" : ""));
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
        if (item.doc.kind === "creditNote") return;
        item.input.value = item.doc.amount_due;
        writeLine(item.doc, item.input.value);
      });
      self.total();
    });
    var allCell = cell("td");
    allCell.appendChild(all);
    foot.appendChild(allCell);
    this.box.replaceChildren(table);
    this.follow();
  };

  /* The table shows what the lines say: an amount typed or a document chosen in the lines
     shows against that document. */
  Allocations.prototype.follow = function () {
    (this.inputs || []).forEach(function (item) {
      var line = lineOf(item.doc);
      var value = line ? line.querySelector("input[name$='-amount']").value : "";
      if (item.input !== document.activeElement) item.input.value = value;
    });
    this.total();
  };

  Allocations.prototype.total = function () {
    var total = 0;
    (this.inputs || []).forEach(function (item) {
      var value = number(item.input.value);
      if (!isNaN(value)) total += item.doc.kind === "creditNote" ? -value : value;
    });
    if (this.output) this.output.textContent = money(total);
    follow();
  };

  document.addEventListener("DOMContentLoaded", function () {
    var total = document.querySelector("#id_total_amount");
    if (!total || !document.querySelector("select[name$='-document']")) return;
    if (total.value) total.dataset.typed = "true";
    total.addEventListener("input", function () { total.dataset.typed = "true"; });
    var party = document.querySelector("select[data-open-documents]");
    var allocations = party ? new Allocations(party) : null;
    document.addEventListener("input", function (event) {
      if (!event.target.matches("#lines-group input[name$='-amount']")) return;
      if (allocations) allocations.follow();
      else follow();
    });
    if (window.django && window.django.jQuery) {
      var $ = window.django.jQuery;
      $(document).on("select2:select change", PICKERS, function () {
        payInFull(this);
        if (allocations) allocations.follow();
      });
      if (allocations) {
        $(party).on("change", function () { allocations.load(); });
        // After the autocompletes are set up (Django's script runs on the same event).
        window.setTimeout(function () { allocations.load(); }, 0);
        document.addEventListener("formset:added", function () {
          window.setTimeout(function () { scopePickers(party.value); }, 0);
        });
        document.addEventListener("formset:removed", function () { allocations.follow(); });
      }
    }
  });
})();
