"""Cross-cutting pieces every pillar uses: settings, errors, time, content loading, plugins."""
