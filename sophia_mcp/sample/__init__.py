"""Demo-only parts: the Airbyte API simulator and the sample Gong data generator."""
