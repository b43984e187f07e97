/* A payment's lines while they are edited: choosing a document pays it in full (its amount
   due, read from the choice's label "INV-5001 · 200.00 USD due") unless an amount is typed,
   and the payment's total follows the sum of its lines until the person types another.
   A convenience only: the server checks every amount against what is still due. */
(function () {
  "use strict";

  function sum() {
    var total = 0;
    document.querySelectorAll("#lines-group tr.form-row").forEach(function (row) {
      var deleted = row.querySelector("input[name$='-DELETE']");
      var amount = row.querySelector("input[name$='-amount']");
      if (deleted && deleted.checked) return;
      var value = amount ? parseFloat(amount.value) : NaN;
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

  document.addEventListener("DOMContentLoaded", function () {
    var total = document.querySelector("#id_total_amount");
    if (!total || !document.querySelector("select[name$='-document']")) return;
    if (total.value) total.dataset.typed = "true";
    total.addEventListener("input", function () { total.dataset.typed = "true"; });
    document.addEventListener("input", function (event) {
      if (event.target.matches("input[name$='-amount']")) follow();
    });
    if (window.django && window.django.jQuery) {
      window.django.jQuery(document).on("select2:select change", "select[name$='-document']",
        function () { payInFull(this); });
    }
  });
})();
