"""The admin site of the register: its own pages (dashboard, exports, completeness, health) and the
guards every ModelAdmin gets (``input``, ``widgets``)."""
