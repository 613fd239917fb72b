// Copy buttons that paste into Python: for a console example (```pycon), the copy button copies
// the code only, without the ">>> " and "... " prompts and without the printed output.
//
// mkdocs-material's button copies the text of the closest element with a `data-copy` attribute
// when there is one (else the block's text), so this sets that attribute once per page
// (`document$` fires on every page load, instant navigation included).
(function () {
  "use strict";

  function codeOnly(text) {
    var lines = [];
    var inInput = false;
    text.split("\n").forEach(function (line) {
      if (line.startsWith(">>> ") || line === ">>>") {
        inInput = true;
        lines.push(line.slice(4));
      } else if (inInput && (line.startsWith("... ") || line === "...")) {
        lines.push(line.slice(4));
      } else {
        inInput = false; // output, up to the next prompt
      }
    });
    return lines.join("\n");
  }

  function markConsoleBlocks() {
    document.querySelectorAll(".language-pycon pre > code").forEach(function (code) {
      if (code.textContent.indexOf(">>>") !== -1) {
        code.setAttribute("data-copy", codeOnly(code.textContent));
      }
    });
  }

  if (typeof document$ !== "undefined") {
    document$.subscribe(markConsoleBlocks);
  } else {
    document.addEventListener("DOMContentLoaded", markConsoleBlocks);
  }
})();
