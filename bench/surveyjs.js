// The same question as the other pages, as a SurveyJS definition rendered by survey-js-ui.
(function () {
  "use strict";
  var survey = new Survey.Model({
    showQuestionNumbers: "off",
    completeText: "Send",
    elements: [
      {
        type: "radiogroup",
        name: "fft",
        title: "Overall, how was your experience of our service?",
        isRequired: true,
        choices: [
          { value: "very_good", text: "Very good" },
          { value: "good", text: "Good" },
          { value: "neither", text: "Neither good nor poor" },
          { value: "poor", text: "Poor" },
          { value: "very_poor", text: "Very poor" },
          { value: "dont_know", text: "Don't know" },
        ],
      },
      { type: "comment", name: "why", title: "Please tell us why you gave this answer" },
    ],
  });
  survey.render(document.getElementById("fft"));
})();
