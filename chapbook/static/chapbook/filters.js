// Suggestions for a single tag name of any type (the "Hide a tag" field), from the tag
// autocomplete, shown by the browser's own datalist. Without JavaScript it is a text field.
(function () {
  "use strict";
  var TYPES = ["fandom", "relationship", "character", "freeform", "rating", "warning", "category"];
  function setup(input, n) {
    var list = document.createElement("datalist");
    var timer = null;
    list.id = "tag-suggestions-" + n;
    input.setAttribute("list", list.id);
    input.parentNode.appendChild(list);
    input.addEventListener("input", function () {
      clearTimeout(timer);
      var term = input.value.trim();
      if (!term) { list.innerHTML = ""; return; }
      timer = setTimeout(function () {
        // The autocomplete answers for one type at a time; a name to hide may be of any.
        Promise.all(TYPES.map(function (type) {
          return fetch("/tags/autocomplete?type=" + type + "&q=" + encodeURIComponent(term))
            .then(function (response) { return response.ok ? response.json() : { results: [] }; })
            .catch(function () { return { results: [] }; });
        })).then(function (answers) {
          list.innerHTML = "";
          answers.forEach(function (data) {
            (data.results || []).forEach(function (name) {
              var option = document.createElement("option");
              option.value = name;
              list.appendChild(option);
            });
          });
        });
      }, 200);
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("input[data-tag-suggest]").forEach(setup);
  });
})();
