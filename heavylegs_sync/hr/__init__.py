"""Heart rate: zone models, what a trace says, which zones apply on which day, Strava's zones.

- :mod:`.zones`: the zone models (settings, watch, Strava, estimate) and time in zone as
  stored; pure, no numpy, so ``report`` and ``today`` start quickly.
- :mod:`.trace`: what a heart-rate trace says (time in zone, HR coverage, the sustained
  peak); numpy, imported only where samples are read.
- :mod:`.timeline`: which zone model applies on which day, from the best source.
- :mod:`.strava`: the athlete's Strava zones, where the store keeps them, their bounds.

Nothing is imported here, so importing one module never loads the others.
"""
