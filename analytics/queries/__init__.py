"""All of analytics' SQL, by what it reads and writes."""
