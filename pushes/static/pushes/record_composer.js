/* The composer, for keyboard and screen-reader users. Each line's fields are named after their
   column and line ("Line 2: account"), since a grid row has no labels of its own, and every
   autocomplete announces what it is for (select2 replaces the select with a widget that names
   only its current choice). Adding a line puts the cursor in its first field. */
(function () {
  "use strict";

  function columnLabels(group) {
    var labels = {};
    group.querySelectorAll("thead th[class*='column-']").forEach(function (th) {
      var name = Array.prototype.find.call(th.classList, function (c) {
        return c.indexOf("column-") === 0;
      });
      if (name) labels[name.slice(7)] = th.textContent.replace(/\s+/g, " ").trim();
    });
    return labels;
  }

  function nameAutocomplete(select, label) {
    var box = select.nextElementSibling;
    if (!box || !box.classList.contains("select2")) return;
    var selection = box.querySelector(".select2-selection");
    if (selection) {
      selection.removeAttribute("aria-labelledby");
      selection.setAttribute("aria-label", label);
    }
    var rendered = box.querySelector(".select2-selection__rendered[role]");
    if (rendered) rendered.setAttribute("aria-label", label);
    var search = box.querySelector(".select2-search__field");
    if (search) search.setAttribute("aria-label", label);
  }

  function nameLines() {
    var group = document.getElementById("lines-group");
    if (!group) return;
    var labels = columnLabels(group);
    var number = 0;
    group.querySelectorAll("tr.form-row:not(.empty-form)").forEach(function (row) {
      number += 1;
      row.querySelectorAll("td[class*='field-']").forEach(function (cell) {
        var name = Array.prototype.find.call(cell.classList, function (c) {
          return c.indexOf("field-") === 0;
        }).slice(6);
        var label = "Line " + number + ": " + (labels[name] || name.replace(/_/g, " "));
        cell.querySelectorAll("input:not([type=hidden]), select, textarea").forEach(function (f) {
          f.setAttribute("aria-label", label);
        });
        cell.querySelectorAll("select.admin-autocomplete").forEach(function (select) {
          nameAutocomplete(select, label);
        });
      });
      var remove = row.querySelector("td.delete input[type=checkbox]");
      if (remove) remove.setAttribute("aria-label", "Delete line " + number);
    });
  }

  function nameHeaderAutocompletes() {
    document.querySelectorAll("fieldset select.admin-autocomplete").forEach(function (select) {
      if (select.closest("#lines-group")) return;
      var label = document.querySelector("label[for='" + select.id + "']");
      if (label) nameAutocomplete(select, label.textContent.replace(/[:*]\s*$/, "").trim());
    });
  }

  function nameAll() {
    nameLines();
    nameHeaderAutocompletes();
  }

  document.addEventListener("DOMContentLoaded", function () {
    // After the admin has turned the selects into autocompletes (its own ready handler).
    setTimeout(nameAll, 0);
  });
  if (window.django && window.django.jQuery) {
    window.django.jQuery(document).on("formset:added", function (event) {
      setTimeout(function () {
        nameAll();
        var row = event.target;
        var first = row && row.querySelector("td[class*='field-'] textarea, " +
          "td[class*='field-'] input:not([type=hidden])");
        if (first) first.focus();
      }, 0);
    });
    window.django.jQuery(document).on("select2:select select2:unselect", function () {
      setTimeout(nameAll, 0);
    });
  }
})();
