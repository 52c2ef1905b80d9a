// Loaded on every page of the book (html_js_files in _config.yml).
//
// sphinx-togglebutton makes the whole title of a folded admonition (an exercise
// solution, a `:class: dropdown` admonition) clickable, but its click handler throws
// "button is not defined" when the click lands on an element *inside* the title: the
// link to the exercise in a solution's title, or the path inside the chevron icon.
// Catch those clicks first: a link just follows its target, anything else toggles the
// admonition exactly as a click on the title does.
document.addEventListener(
  "click",
  (event) => {
    const title = event.target.closest(".admonition.toggle > .admonition-title");
    if (!title || event.target === title) return;
    const button = title.querySelector(":scope > .toggle-button");
    if (!button || event.target === button) return;
    event.stopPropagation();
    if (!event.target.closest("a")) button.click();
  },
  true,
);
