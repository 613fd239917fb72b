// Copy buttons that paste anywhere Python runs: a plain `python` REPL (3.10-3.12), IPython, a script.
//
// A console example (```pycon) copies the code only, without the ">>> " and "... " prompts and
// without the printed output. A script (```python) copies its text. Both are made REPL-safe the
// same way, without changing what they do as a script: the plain REPL ends an indented block at
// the first blank line and refuses a new statement until a blank line has ended the block before
// it, so blank lines inside an indented block are dropped and a blank line follows every block.
//
// mkdocs-material's button copies the text of the closest element with a `data-copy` attribute
// when there is one (else the block's text), so this sets that attribute once per page
// (`document$` fires on every page load, instant navigation included).
// tests/docs/test_paste.py runs this file (under node) on every built page and pastes the result
// into a real `python -i`.
(function () {
  "use strict";

  // A statement that opens an indented block (or a decorator, which a def or class follows).
  var OPENS_BLOCK = /^(async\s+)?(def|class|if|for|while|with|try|match)\b|^@/;
  // Lines that carry on the block or the statement above them at column 0.
  var CARRIES_ON = /^(elif|else|except|finally|case)\b|^[)\]}]/;

  function indented(line) {
    return /^\s/.test(line);
  }

  // The lines of one statement (or script), REPL-safe: no blank line followed by an indented one.
  function withoutInnerBlanks(lines) {
    return lines.filter(function (line, i) {
      if (line.trim() !== "") return true;
      var next = lines.slice(i + 1).find(function (later) { return later.trim() !== ""; });
      return next !== undefined && !indented(next);
    });
  }

  function consoleCode(text) {
    var statements = [];
    var current = null;
    text.split("\n").forEach(function (line) {
      if (line.startsWith(">>> ") || line === ">>>") {
        current = [line.slice(4)];
        statements.push(current);
      } else if (current && (line.startsWith("... ") || line === "...")) {
        current.push(line.slice(4));
      } else {
        current = null; // output, up to the next prompt
      }
    });
    var lines = [];
    statements.forEach(function (statement) {
      var body = withoutInnerBlanks(statement);
      while (body.length > 1 && body[body.length - 1].trim() === "") body.pop();
      lines = lines.concat(body);
      if (body.length > 1 || OPENS_BLOCK.test(body[0])) lines.push(""); // ends the block in a REPL
    });
    return lines.join("\n");
  }

  function scriptCode(text) {
    var source = withoutInnerBlanks(text.replace(/\s+$/, "").split("\n"));
    var lines = [];
    source.forEach(function (line) {
      var previous = lines.length ? lines[lines.length - 1] : "";
      if (line.trim() !== "" && !indented(line) && indented(previous) && !CARRIES_ON.test(line)) {
        lines.push(""); // the block above ends here
      }
      lines.push(line);
    });
    if (lines.length && indented(lines[lines.length - 1])) lines.push("");
    return lines.join("\n");
  }

  function markCodeBlocks() {
    document.querySelectorAll(".language-pycon pre > code").forEach(function (code) {
      if (code.textContent.indexOf(">>>") !== -1) {
        code.setAttribute("data-copy", consoleCode(code.textContent));
      }
    });
    document.querySelectorAll(".language-python pre > code").forEach(function (code) {
      code.setAttribute("data-copy", scriptCode(code.textContent));
    });
  }

  if (typeof document$ !== "undefined") {
    document$.subscribe(markCodeBlocks);
  } else {
    document.addEventListener("DOMContentLoaded", markCodeBlocks);
  }
})();
