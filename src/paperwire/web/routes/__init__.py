"""Every router the app serves, in the order they are mounted."""

from paperwire.web.routes import health, pages

ROUTERS = [health.router, pages.router]
