// Loaded on every page of the book (html_js_files in _config.yml).
//
// The offline animations (adam_course.widgets.animation_html, matplotlib's JavaScript player)
// have a frame slider, <input type="range">, without a label: axe-core's "label" rule, a
// WCAG 2 A failure, and a screen reader announces an unnamed slider. Name it after the
// animation's picture. (Remove this file once adam_course gives the slider an aria-label.)
document.addEventListener("DOMContentLoaded", () => {
  for (const slider of document.querySelectorAll('input[type="range"][id^="_anim_slider"]')) {
    if (slider.hasAttribute("aria-label") || slider.labels?.length) continue;
    slider.setAttribute("aria-label", "Animation frame");
  }
  // The bibliography (sphinxcontrib-bibtex, docutils): a role="list" whose entries carry the
  // deprecated role doc-biblioentry (axe: aria-deprecated-role, and aria-required-children
  // because a list must hold listitems). Its entries are list items.
  for (const entry of document.querySelectorAll('[role="list"] > [role="doc-biblioentry"]')) {
    entry.setAttribute("role", "listitem");
  }
});
