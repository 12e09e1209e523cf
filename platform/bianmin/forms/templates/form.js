(function (form) {
  "use strict";
  if (!form || !form.querySelectorAll || !window.JSON) return;
  // The value of the field `name` as the server's condition sees it: null when unanswered or
  // hidden, a list for checkboxes, true/false for yes/no, a number for numbers.
  function read(name, scope) {
    var els = (scope || form).querySelectorAll('[name="' + name + '"]');
    var out = [], kind = "";
    for (var i = 0; i < els.length; i++) {
      var el = els[i], box = el.closest("[data-when-ast]");
      if (box && box.hidden) return null;
      kind = el.getAttribute("data-kind") || kind;
      if (el.type === "checkbox" || el.type === "radio") { if (el.checked) out.push(el.value); }
      else if (el.value !== "") out.push(el.value);
    }
    if (kind === "multi") return out.length ? out : null;
    if (!out.length) return null;
    var v = out[out.length - 1];
    if (kind === "boolean") return v === "true";
    if (kind === "number") return Number(v);
    return v;
  }
  function ev(n, row) {
    var a, b;
    switch (n[0]) {
      case "const": return n[1];
      case "data": return read(n[1]);
      case "row": return row ? read(row.getAttribute("data-row") + n[1], row) : null;
      case "not": return !ev(n[1], row);
      case "and": return ev(n[1], row) && ev(n[2], row);
      case "or": return ev(n[1], row) || ev(n[2], row);
      case "defined": return ev(n[1], row) != null;
      case "none": return ev(n[1], row) === null;
    }
    a = ev(n[1], row); b = ev(n[2], row);
    switch (n[0]) {
      case "==": return a === b;
      case "!=": return a !== b;
      case "in": return b != null && a != null && b.indexOf(a) >= 0;
      case "notin": return !(b != null && a != null && b.indexOf(a) >= 0);
    }
    if (a == null || b == null) return false;
    switch (n[0]) {
      case "<": return a < b;
      case "<=": return a <= b;
      case ">": return a > b;
      case ">=": return a >= b;
    }
    return true;
  }
  function update() {
    var boxes = form.querySelectorAll("[data-when-ast]");
    for (var i = 0; i < boxes.length; i++) {
      try { boxes[i].hidden = !ev(JSON.parse(boxes[i].getAttribute("data-when-ast")), boxes[i].closest("[data-row]")); }
      catch (e) { boxes[i].hidden = false; }
    }
  }
  // "Add a row": copy the last row of a group, blank, with the next index in ids and names.
  function addRow(group, button) {
    var rows = group.querySelectorAll(":scope > [data-row]"), last = rows[rows.length - 1];
    var max = Number(group.getAttribute("data-max-items")) || Infinity;
    if (!last || rows.length >= max) return;
    var base = group.getAttribute("data-group-id"), name = group.getAttribute("data-group");
    var n = rows.length, oldId = base + "-" + (n - 1), newId = base + "-" + n;
    var oldName = name + "." + (n - 1) + ".", newName = name + "." + n + ".";
    var copy = last.cloneNode(true), all = [copy].concat([].slice.call(copy.querySelectorAll("*")));
    all.forEach(function (el) {
      ["id", "for", "name", "aria-describedby", "data-row"].forEach(function (attr) {
        var v = el.getAttribute(attr);
        if (v === null) return;
        v = v === oldId ? newId : v.split(oldId + "-").join(newId + "-").split(oldName).join(newName);
        if (attr === "aria-describedby") v = v.split(" ").filter(function (t) { return !/-error$/.test(t); }).join(" ");
        if (v) el.setAttribute(attr, v); else el.removeAttribute(attr);
      });
      if (el.classList.contains("bm-error")) { el.parentNode.removeChild(el); return; }
      el.removeAttribute("aria-invalid");
      if (el.type === "checkbox" || el.type === "radio") el.checked = false;
      else if (/^(INPUT|SELECT|TEXTAREA)$/.test(el.tagName)) el.value = "";
    });
    copy.querySelector("legend").textContent = "第" + (n + 1) + "项";
    last.parentNode.insertBefore(copy, last.nextSibling);
    if (n + 1 >= max) button.disabled = true;
    update();
  }
  // The server's "add a row" button posts the form to get one more row; here, add it in place.
  [].forEach.call(form.querySelectorAll("[data-group]"), function (group) {
    var button = group.querySelector(":scope > .bm-add-row");
    if (!button) return;
    button.addEventListener("click", function (event) { event.preventDefault(); addRow(group, button); });
  });
  form.addEventListener("change", update);
  form.addEventListener("input", update);
  update();
})(document.currentScript && document.currentScript.previousElementSibling);
