// Progressive only: the pages work without this file. While a form is being sent, the button
// pressed says so and cannot be pressed twice. Buttons that download a file (the page stays)
// have no data-busy and stay as they are.
"use strict";
document.addEventListener("submit", function (event) {
  var button = event.submitter || event.target.querySelector("button[type=submit]");
  if (button && button.hasAttribute("data-busy")) {
    button.disabled = true;
    button.textContent = button.getAttribute("data-busy");
  }
});
