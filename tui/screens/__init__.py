"""The app's screens: six main sections (one per number key) and the modal windows."""
