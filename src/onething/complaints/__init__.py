"""12345 hotline complaints and requests (接诉即办): for now, the category classifier."""
