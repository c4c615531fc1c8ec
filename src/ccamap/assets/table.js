/* Sortable table: click (or Enter on) a heading to sort by it; again to reverse. */
(function () {
  "use strict";
  var table = document.getElementById("ccamap-table");
  var body = table.tBodies[0];
  var current = { col: -1, dir: 1 };
  function key(row, col) {
    var v = row.cells[col].getAttribute("data-sort");
    var n = Number(v);
    return v !== "" && !isNaN(n) ? n : v.toLowerCase();
  }
  function sort(col) {
    current.dir = current.col === col ? -current.dir : 1;
    current.col = col;
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a, col), y = key(b, col);
      if (x === y) { return 0; }
      if (x === "") { return 1; }
      if (y === "") { return -1; }
      return (x < y ? -1 : 1) * current.dir;
    });
    rows.forEach(function (r) { body.appendChild(r); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {
      th.setAttribute("aria-sort", i === col ? (current.dir > 0 ? "ascending" : "descending") : "none");
    });
  }
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {
    th.addEventListener("click", function () { sort(i); });
    th.addEventListener("keydown", function (e) { if (e.key === "Enter") { sort(i); } });
  });
})();
