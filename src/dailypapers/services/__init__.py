"""Services: the functions the web app, the CLI and the jobs share. Each takes the session explicitly."""
