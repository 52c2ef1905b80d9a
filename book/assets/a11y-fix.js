// Loaded on every page of the book (html_js_files in _config.yml).
//
// The bibliography (sphinxcontrib-bibtex, docutils): a role="list" whose entries carry the
// deprecated role doc-biblioentry (axe: aria-deprecated-role, and aria-required-children
// because a list must hold listitems). Its entries are list items.
document.addEventListener("DOMContentLoaded", () => {
  for (const entry of document.querySelectorAll('[role="list"] > [role="doc-biblioentry"]')) {
    entry.setAttribute("role", "listitem");
  }
});
