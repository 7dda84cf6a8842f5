"""Moving journeys in and out of the tools teams already use (issue 16): spreadsheets and sticky-note boards
(:mod:`.sheet`), with the journey-file writer they share (:mod:`.yamlout`)."""
