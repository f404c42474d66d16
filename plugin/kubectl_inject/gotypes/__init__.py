"""Go's type model for Kubernetes and Istio objects (see schema.py, typed.py, views.py, quantity.py)."""
