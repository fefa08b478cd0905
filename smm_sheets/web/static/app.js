// Progressive only: the pages work without this file. While a form is being sent, its button
// says so and cannot be pressed twice.
"use strict";
document.addEventListener("submit", function (event) {
  var button = event.target.querySelector("button[type=submit][data-busy]");
  if (button) {
    button.disabled = true;
    button.textContent = button.getAttribute("data-busy");
  }
});
