// The request form's "Person" field: as the DPO types, the controller's people whose key starts with, or
// one of whose identifiers contains, the text are offered (a <datalist>). A file, for the Content Security
// Policy; the list comes from the admin's own people view, scoped to the controller chosen.
(function () {
  "use strict";
  function setUp() {
    var input = document.getElementById("id_person");
    var controller = document.getElementById("id_controller");
    if (!input || !controller || !input.dataset.peopleUrl) {
      return;
    }
    var list = document.getElementById("person-choices");
    var timer = null;
    function refresh() {
      var text = input.value.trim();
      if (text.length < 2 || !controller.value) {
        list.replaceChildren();
        return;
      }
      var url = input.dataset.peopleUrl + "?controller=" + encodeURIComponent(controller.value) +
        "&q=" + encodeURIComponent(text);
      fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (response) { return response.ok ? response.json() : {results: []}; })
        .then(function (data) {
          list.replaceChildren.apply(list, data.results.map(function (person) {
            var option = document.createElement("option");
            option.value = person.value;
            option.label = person.label;
            option.textContent = person.label;
            return option;
          }));
        });
    }
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(refresh, 200);
    });
    controller.addEventListener("change", function () { list.replaceChildren(); });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
