// The floor: the same question built by hand with the DOM, no library.
(function () {
  "use strict";
  var answers = ["Very good", "Good", "Neither good nor poor", "Poor", "Very poor", "Don't know"];
  var form = document.createElement("form");
  var set = document.createElement("fieldset");
  var legend = document.createElement("legend");
  legend.textContent = "Overall, how was your experience of our service?";
  set.append(legend);
  answers.forEach(function (text, i) {
    var label = document.createElement("label");
    var input = document.createElement("input");
    input.type = "radio";
    input.name = "fft";
    input.value = String(i);
    label.append(input, text);
    set.append(label);
  });
  var why = document.createElement("label");
  why.textContent = "Please tell us why you gave this answer";
  var text = document.createElement("textarea");
  text.name = "why";
  why.append(document.createElement("br"), text);
  var send = document.createElement("button");
  send.textContent = "Send";
  form.append(set, why, send);
  form.addEventListener("submit", function (e) { e.preventDefault(); });
  // The floor's own state: which answer it has taken (the bench's time to interactive reads it).
  form.addEventListener("change", function (e) { if (e.target.name === "fft") form.dataset.answer = e.target.value; });
  document.getElementById("fft").append(form);
})();
