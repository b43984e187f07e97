/* A journal entry's running difference while lines are typed: debits, credits and what is
   left to balance. A preview only: saving checks the same sums (debits_equal_credits). */
(function () {
  "use strict";

  function number(row, name) {
    var input = row.querySelector("[name$='-" + name + "']");
    var value = input ? parseFloat(input.value) : NaN;
    return isNaN(value) ? 0 : value;
  }

  function recompute() {
    var group = document.getElementById("lines-group");
    if (!group) return;
    var currencyInput = document.querySelector("#id_currency");
    var currency = (currencyInput && currencyInput.value || "").toUpperCase();
    var money = currency ? currency + " " : "";
    var debits = 0, credits = 0;
    group.querySelectorAll("tr.form-row").forEach(function (row) {
      var deleted = row.querySelector("input[name$='-DELETE']");
      if ((deleted && deleted.checked) || row.classList.contains("empty-form")) return;
      debits += number(row, "debit");
      credits += number(row, "credit");
    });
    // Cents, so 0.1 + 0.2 balances 0.3.
    var difference = Math.round((debits - credits) * 100) / 100;
    var box = document.getElementById("journal-live-balance");
    if (!box) {
      box = document.createElement("p");
      box.id = "journal-live-balance";
      box.setAttribute("aria-live", "polite");
      group.parentNode.insertBefore(box, group.nextSibling);
    }
    box.textContent = "Debits: " + money + debits.toFixed(2) + " · Credits: " + money +
      credits.toFixed(2) + " · " + (difference === 0 ? "Balanced" :
        "Difference: " + money + Math.abs(difference).toFixed(2) +
        (difference > 0 ? " more debited than credited" : " more credited than debited"));
    box.className = difference === 0 ? "journal-balanced" : "journal-unbalanced";
  }

  document.addEventListener("input", recompute);
  document.addEventListener("change", recompute);
  document.addEventListener("DOMContentLoaded", recompute);
  if (window.django && window.django.jQuery) {
    window.django.jQuery(document).on("formset:added formset:removed", recompute);
  }
})();
