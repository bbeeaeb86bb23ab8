"""Small platform helpers every service uses: app skeleton, logging, tracing, problem responses, auth."""
