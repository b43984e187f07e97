/* Live record totals while lines are edited. A preview only: the figures shown after saving
   come from the server (pushes.selectors.invoice_totals, for every record with lines), which rounds each line the same way. */
(function () {
  "use strict";

  function decimals(currency) {
    var zero = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX VND VUV XAF XOF XPF".split(" ");
    var three = "BHD IQD JOD KWD LYD OMR TND".split(" ");
    if (zero.indexOf(currency) >= 0) return 0;
    if (three.indexOf(currency) >= 0) return 3;
    return 2;
  }

  function round(value, places) {
    var factor = Math.pow(10, places);
    return Math.round((value + Number.EPSILON) * factor) / factor;
  }

  function number(row, name) {
    var input = row.querySelector("[name$='-" + name + "']");
    var value = input ? parseFloat(input.value) : NaN;
    return isNaN(value) ? 0 : value;
  }

  function taxRate(row) {
    // A tax rate's label ends with its percentage, e.g. "GST (5%)".
    var select = row.querySelector("select[name$='-tax_rate']");
    if (!select || !select.value) return 0;
    var option = select.options[select.selectedIndex];
    var match = option && option.text.match(/\(([\d.]+)%\)\s*$/);
    return match ? parseFloat(match[1]) : null;
  }

  function recompute() {
    var currencyInput = document.querySelector("#id_currency");
    var currency = (currencyInput && currencyInput.value || "").toUpperCase();
    var places = decimals(currency);
    var subtotal = 0, discount = 0, tax = 0, complete = true;
    document.querySelectorAll("#lines-group tr.form-row").forEach(function (row) {
      var deleted = row.querySelector("input[name$='-DELETE']");
      if ((deleted && deleted.checked) || row.classList.contains("empty-form")) return;
      var gross = number(row, "quantity") * number(row, "unit_amount");
      var amount = round(gross, places);
      var off = round(gross * number(row, "discount_percentage") / 100, places);
      var rate = taxRate(row);
      showLineAmount(row, amount - off, currency, places);
      subtotal += amount;
      discount += off;
      if (rate === null) complete = false;
      else tax += round((amount - off) * rate / 100, places);
    });
    var figures = {
      subtotal: subtotal, discount: -discount, tax: tax, total: subtotal - discount + tax
    };
    var box = document.getElementById("record-live-totals");
    if (!box) {
      var group = document.getElementById("lines-group");
      if (!group) return;
      box = document.createElement("p");
      box.id = "record-live-totals";
      box.setAttribute("aria-live", "polite");
      group.parentNode.insertBefore(box, group.nextSibling);
    }
    box.textContent = Object.keys(figures).map(function (key) {
      return key.charAt(0).toUpperCase() + key.slice(1) + ": " + currency + " " +
        figures[key].toFixed(places);
    }).join(" · ") + (complete ? "" : " (tax of lines with an unknown rate excluded)");
  }

  function currencyFromParty(event) {
    // A party's label ends with its currency ("Bean There Cafe · CAD"); the currency takes
    // it while nobody has chosen one by hand (the form opens on the business's currency).
    if (!event.target || !event.target.dataset || !event.target.dataset.party) return;
    var currency = document.querySelector("#id_currency");
    var option = event.target.options[event.target.selectedIndex];
    var match = option && option.text.match(/ · ([A-Z]{3})$/);
    if (!currency || !match || currency.dataset.chosen) return;
    if (currency.tagName === "SELECT" &&
        !currency.querySelector("option[value='" + match[1] + "']")) return;
    currency.value = match[1];
  }

  function showLineAmount(row, amount, currency, places) {
    var cell = row.querySelector("td.field-unit_amount");
    if (!cell) return;
    var shown = cell.querySelector("[data-line-amount]");
    if (!shown) {
      shown = document.createElement("span");
      shown.className = "record-line__amount";
      shown.setAttribute("data-line-amount", "");
      cell.appendChild(shown);
    }
    shown.textContent = "Amount: " + currency + " " + amount.toFixed(places);
  }

  document.addEventListener("input", function (event) {
    if (event.target && event.target.id === "id_currency") event.target.dataset.chosen = "1";
    recompute();
  });
  document.addEventListener("change", recompute);
  document.addEventListener("DOMContentLoaded", recompute);
  if (window.django && window.django.jQuery) {
    // select2 (autocomplete) announces choices through jQuery events only.
    window.django.jQuery(document).on("select2:select select2:unselect formset:added " +
      "formset:removed", function (event) {
        currencyFromParty(event);
        recompute();
      });
  }
})();
