"""The MCP server: search, papers, daily lists, similar, trending and the member's tools for
assistants (``server.py``), over stdio (``cli/mcp.py``) and on the site at ``/mcp`` (``http.py``).

A layer of its own between services and web/cli (pyproject.toml's import-linter contract): it
calls services and never imports web or cli; web mounts it and cli runs it.
"""
