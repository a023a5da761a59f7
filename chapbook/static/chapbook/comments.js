// Reply in place. Without JavaScript each "Reply" link opens a page with its own form;
// this copies the page's comment form under the comment instead, with `parent` set, and
// the same POST happens either way.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-reply-to]");
    if (!link) return;
    var original = document.querySelector("form[data-comment-form]");
    var article = link.closest("article");
    if (!original || !article) return;
    event.preventDefault();
    var id = link.getAttribute("data-reply-to");
    var open = document.getElementById("reply-form-" + id);
    if (open) { open.querySelector("textarea").focus(); return; }
    var form = original.cloneNode(true);
    form.id = "reply-form-" + id;
    form.removeAttribute("data-comment-form");
    form.removeAttribute("aria-labelledby");
    form.setAttribute("aria-label", "Reply");
    form.classList.add("comment-inline-form");
    // Ids must stay unique on the page: suffix every id and the labels pointing at them.
    form.querySelectorAll("[id]").forEach(function (el) { el.id = el.id + "-" + id; });
    form.querySelectorAll("label[for]").forEach(function (el) { el.htmlFor = el.htmlFor + "-" + id; });
    form.querySelectorAll("[aria-describedby]").forEach(function (el) {
      el.setAttribute("aria-describedby", el.getAttribute("aria-describedby").split(" ").map(function (ref) { return ref + "-" + id; }).join(" "));
    });
    form.querySelectorAll(".errorlist, .form-errors").forEach(function (el) { el.remove(); });
    var parent = form.querySelector("input[name=parent]");
    if (parent) parent.value = id;
    var text = form.querySelector("textarea");
    if (text) text.value = "";
    var cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "secondary";
    cancel.textContent = "Cancel";
    cancel.addEventListener("click", function () { form.remove(); link.focus(); });
    form.appendChild(document.createTextNode(" "));
    form.appendChild(cancel);
    article.appendChild(form);
    if (text) text.focus();
  });
})();
