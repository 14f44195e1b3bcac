"""Code that runs inside the student worker (copied into a private folder as the package ``agsandbox``; it never imports ``autograder``)."""
