// Tag autocomplete for comma-separated tag fields. Without JavaScript the fields are plain text.
(function () {
  "use strict";
  function lastTerm(value) {
    var parts = value.split(",");
    return parts[parts.length - 1].trim();
  }
  function setup(input) {
    var type = input.getAttribute("data-autocomplete");
    var list = document.createElement("ul");
    var listId = input.id + "-suggestions";
    var timer = null;
    var active = -1;
    list.id = listId;
    list.setAttribute("role", "listbox");
    list.className = "autocomplete";
    list.hidden = true;
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-controls", listId);
    input.setAttribute("aria-expanded", "false");
    input.parentNode.insertBefore(list, input.nextSibling);

    function close() {
      list.hidden = true;
      active = -1;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }
    function choose(name) {
      var parts = input.value.split(",");
      parts[parts.length - 1] = " " + name;
      input.value = parts.join(",").replace(/^\s+/, "") + ", ";
      close();
      input.focus();
    }
    function highlight(index) {
      var items = list.querySelectorAll("li");
      if (!items.length) return;
      active = (index + items.length) % items.length;
      items.forEach(function (item, i) { item.setAttribute("aria-selected", i === active ? "true" : "false"); });
      input.setAttribute("aria-activedescendant", items[active].id);
    }
    function show(names) {
      // New suggestions: whatever was highlighted before no longer exists.
      active = -1;
      input.removeAttribute("aria-activedescendant");
      list.innerHTML = "";
      names.forEach(function (name, i) {
        var item = document.createElement("li");
        item.id = listId + "-" + i;
        item.setAttribute("role", "option");
        item.textContent = name;
        item.addEventListener("mousedown", function (event) { event.preventDefault(); choose(name); });
        list.appendChild(item);
      });
      list.hidden = names.length === 0;
      input.setAttribute("aria-expanded", names.length ? "true" : "false");
    }
    input.addEventListener("input", function () {
      clearTimeout(timer);
      var term = lastTerm(input.value);
      if (!term) { close(); return; }
      timer = setTimeout(function () {
        fetch("/tags/autocomplete?type=" + encodeURIComponent(type) + "&q=" + encodeURIComponent(term))
          .then(function (response) { return response.ok ? response.json() : { results: [] }; })
          .then(function (data) { show(data.results || []); })
          .catch(close);
      }, 150);
    });
    input.addEventListener("keydown", function (event) {
      if (list.hidden) return;
      if (event.key === "ArrowDown") { event.preventDefault(); highlight(active + 1); }
      else if (event.key === "ArrowUp") { event.preventDefault(); highlight(active - 1); }
      else if (event.key === "Enter" && active >= 0) { event.preventDefault(); choose(list.children[active].textContent); }
      else if (event.key === "Escape") { close(); }
    });
    input.addEventListener("blur", function () { setTimeout(close, 100); });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("input[data-autocomplete]").forEach(setup);
  });
})();
