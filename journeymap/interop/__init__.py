"""Moving journeys in and out of the tools teams already use: BPMN, Prosimos, Mermaid, XES, spreadsheets."""
