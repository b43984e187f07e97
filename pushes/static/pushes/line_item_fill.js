/* Choosing an item on a line fills the line's description, unit price, account and tax rate
   from the mirror (pushes.admin.base RecordAdmin.item_fill_view). Every value stays editable,
   and a value already in the line is kept unless it is what the previous item put there: what
   a person typed is never overwritten. */
(function () {
  "use strict";

  var $ = window.django && window.django.jQuery;

  function fieldOf(row, name) {
    return row.querySelector("[name$='-" + name + "']");
  }

  function current(input) {
    return input.value || "";
  }

  function put(input, value) {
    if (input.tagName === "SELECT") {
      var id = String(value.id);
      if (!input.querySelector("option[value='" + id + "']")) {
        input.appendChild(new Option(value.text, id, false, false));
      }
      input.value = id;
      if ($) $(input).trigger("change");
      else input.dispatchEvent(new Event("change", { bubbles: true }));
      return id;
    }
    input.value = value;
    input.dispatchEvent(new Event("input", { bubbles: true }));
    return input.value;
  }

  function fill(select) {
    var row = select.closest("tr.form-row") || select.closest(".inline-related");
    if (!row || !select.value) return;
    var url = select.dataset.fillUrl + "?item=" + encodeURIComponent(select.value);
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (body) {
        if (String(body.item) !== select.value) return; // another item was chosen meanwhile
        Object.keys(body.fields).forEach(function (name) {
          var input = fieldOf(row, name);
          if (!input) return;
          var value = current(input);
          var byItem = input.dataset.itemFilled;
          if (value && value !== byItem) return; // typed or chosen by the person: kept
          input.dataset.itemFilled = put(input, body.fields[name]);
        });
      })
      .catch(function () { /* the line stays as it is; every field can still be filled by hand */ });
  }

  if ($) {
    // select2 (autocomplete) announces choices through jQuery events only.
    $(document).on("select2:select", "select[data-fill-url]", function (event) {
      fill(event.target);
    });
  }
})();
