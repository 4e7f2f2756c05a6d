/* What a reader on a phone needs from every page (_ext/sgdlab_reader.py).
   1. A link in a drawer (the chapter list, the page contents) closes the drawer:
      a link to a section of the same page does not load a page, and the open
      drawer would hide the section it scrolled to.
   2. A block wider than its column (a formula, a table, code, an output) scrolls
      sideways, takes the keyboard's focus to scroll by keys, and says so:
      "sgdlab-more-right" / "sgdlab-more-left" while there is more to see on
      that side, where the stylesheet fades it out. */
(function () {
  var SCROLLERS = '.bd-article mjx-container[display="true"], .bd-article mjx-container.sgdlab-wide,' +
    ' .bd-article .pst-scrollable-table-container, .bd-article pre, .bd-article .output';
  function mark(el) {
    var more = el.scrollWidth - el.clientWidth, x = Math.abs(el.scrollLeft);
    el.classList.toggle("sgdlab-more-left", more > 1 && x > 1);
    el.classList.toggle("sgdlab-more-right", more > 1 && x < more - 1);
    if (more > 1 && el.tabIndex < 0) el.tabIndex = 0;  /* keyboard readers scroll it too */
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("dialog").forEach(function (dialog) {
      dialog.addEventListener("click", function (event) {
        if (event.target.closest && event.target.closest("a[href]") && dialog.open) dialog.close();
      });
    });
    if (!("ResizeObserver" in window)) return;
    var sized = new ResizeObserver(function (entries) {
      entries.forEach(function (entry) { mark(entry.target); });
    });
    document.querySelectorAll(SCROLLERS).forEach(function (el) {
      sized.observe(el);
      el.addEventListener("scroll", function () { mark(el); }, { passive: true });
    });
  });
})();
