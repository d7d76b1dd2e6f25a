"""Read side: views built from the event stream, each storing its rows and position."""
