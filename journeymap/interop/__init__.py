"""Moving journeys in and out of the tools teams already use (issue 16): BPMN with its diagram (:mod:`.bpmn`),
a Prosimos scenario (:mod:`.prosimos`), spreadsheets and sticky-note boards (:mod:`.sheet`, reading the file in
:mod:`.sheetfile`), with the journey-file writer they share (:mod:`.yamlout`)."""
