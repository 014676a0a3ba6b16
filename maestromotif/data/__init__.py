"""Captioned transition samples and preference-pair datasets (see :mod:`maestromotif.data.dataset`)."""
