"use strict";
// Occupancy from the figures the server put in the page (a JSON data block, never HTML).
(function () {
  var figures = JSON.parse(document.getElementById("stats").textContent);
  var rooms = Number(figures.rooms) || 0;
  var occupied = Number(figures.occupied) || 0;
  var share = rooms ? Math.round((100 * occupied) / rooms) : 0;
  var out = document.getElementById("occupancy");
  out.textContent = "Occupancy: " + share + " % (" + occupied + " of " + rooms + " rooms)";
  out.setAttribute("data-share", String(share));
  document.body.setAttribute("data-ready", "1");
})();
