/* Deltacloud browsable API: small progressive touches. Every page works without this file. */
(function () {
  "use strict";

  /* Hardware profile sliders: show the value next to the slider as it moves. */
  function bindSlider(input) {
    var out = document.querySelector('output[for="' + input.id + '"]');
    if (!out) { return; }
    var unit = out.getAttribute("data-unit") || "";
    var show = function () { out.textContent = input.value + (unit ? " " + unit : ""); };
    input.addEventListener("input", show);
    show();
  }

  /* The instance form: choosing a profile shows its options at once (without JavaScript the
     "Show profile options" button reloads the form). Hidden option blocks are disabled, so
     only the chosen profile's overrides are submitted. */
  function bindProfiles(select) {
    var blocks = document.querySelectorAll("fieldset.hwp-options[data-profile]");
    var update = function () {
      blocks.forEach(function (block) {
        var on = block.getAttribute("data-profile") === select.value;
        block.hidden = !on;
        block.disabled = !on;
      });
    };
    select.addEventListener("change", update);
    var reload = document.getElementById("hwp-reload");
    if (reload) { reload.hidden = true; }
    update();
  }

  /* Filter boxes (the OpenAPI page): hide the items whose text does not match. */
  function bindFilter(input) {
    var box = input.closest("[hidden]");
    if (box) { box.hidden = false; }
    var items = document.querySelectorAll(input.getAttribute("data-filter"));
    input.addEventListener("input", function () {
      var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
      items.forEach(function (item) {
        var text = item.textContent.toLowerCase();
        item.hidden = !words.every(function (w) { return text.indexOf(w) !== -1; });
      });
      /* A section whose items are all hidden is hidden too. */
      document.querySelectorAll("section[data-filter-group]").forEach(function (section) {
        var shown = section.querySelectorAll(input.getAttribute("data-filter") + ":not([hidden])");
        section.hidden = words.length > 0 && shown.length === 0;
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll('input[type="range"]').forEach(bindSlider);
    var hwp = document.querySelector("select#hwp_id[data-profiles]");
    if (hwp) { bindProfiles(hwp); }
    document.querySelectorAll("input[data-filter]").forEach(bindFilter);
  });
})();
