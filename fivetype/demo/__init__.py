"""The demo: a programme year of the Nanchang sample units played on the embedded stack at a
chosen speed. `plan` decides everything from a seed (pure); `player` drives the running services
through their real APIs on a compressed programme clock that measures and inspections read from
a file (their CLOCK_FILE setting), so deadlines pass, watchers announce misses and the scoring
service scores the year as it unfolds."""
