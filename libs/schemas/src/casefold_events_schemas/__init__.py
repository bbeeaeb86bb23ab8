"""Build-time tool: export the event contracts as JSON Schema and AsyncAPI files, and guard their compatibility."""
