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

  /* The instances page follows the server's event stream (GET /api/events): states change,
     new instances appear, destroyed ones go, without reloading. Without EventSource (or with
     events off on the server) the page is as it was served. */
  function stateBadge(state) {
    var span = document.createElement("span");
    span.className = "state state-" + String(state).toLowerCase().replace(/ /g, "-");
    span.textContent = state;
    return span;
  }

  function bindLiveInstances(holder) {
    if (!window.EventSource) { return; }
    var source = new EventSource(holder.getAttribute("data-events"));
    var heard = false;
    var status = document.querySelector(".live-status");
    var table = holder.tagName === "TABLE" ? holder : null;
    var row = function (id) {
      return table ? table.querySelector('tr[data-instance="' + CSS.escape(id) + '"]') : null;
    };
    var update = function (event) {
      var data = JSON.parse(event.data);
      var inst = data.instance || {};
      if (!table) { window.location.reload(); return; }
      var tr = row(data.id);
      if (event.type === "destroyed") {
        if (tr) { tr.remove(); }
        return;
      }
      if (!tr) {
        tr = document.createElement("tr");
        tr.setAttribute("data-instance", data.id);
        var link = document.createElement("a");
        link.href = inst.href || "";
        link.textContent = data.id;
        var cells = [link, inst.name || "—", "", (inst.image || {}).id || "—", (inst.realm || {}).id || "—",
                     (inst.hardware_profile || {}).id || "—", ""];
        cells.forEach(function (content, index) {
          var td = document.createElement("td");
          if (index === 1) { td.className = "name"; }
          if (index === 2) { td.className = "state-cell"; }
          if (typeof content === "string") { td.textContent = content; } else { td.appendChild(content); }
          tr.appendChild(td);
        });
        table.querySelector("tbody").appendChild(tr);
      }
      var cell = tr.querySelector(".state-cell");
      if (cell && inst.state) { cell.replaceChildren(stateBadge(inst.state)); }
      var name = tr.querySelector(".name");
      if (name && inst.name) { name.textContent = inst.name; }
    };
    ["created", "state", "changed", "destroyed"].forEach(function (kind) {
      source.addEventListener(kind, function (event) { heard = true; update(event); });
    });
    source.addEventListener("reset", function () { window.location.reload(); });
    source.addEventListener("open", function () {
      heard = true;
      if (status) { status.hidden = false; status.textContent = "Live: changes appear as they happen."; }
    });
    source.addEventListener("error", function () {
      if (!heard) { source.close(); }  /* no stream on this server: leave the page as it is */
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var live = document.querySelector("[data-events]");
    if (live) { bindLiveInstances(live); }
    document.querySelectorAll('input[type="range"]').forEach(bindSlider);
    var hwp = document.querySelector("select#hwp_id[data-profiles]");
    if (hwp) { bindProfiles(hwp); }
    document.querySelectorAll("input[data-filter]").forEach(bindFilter);
  });
})();
