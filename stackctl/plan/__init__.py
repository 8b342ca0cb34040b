"""Plans: desired vs live state, as a value computed once and rendered by views."""
