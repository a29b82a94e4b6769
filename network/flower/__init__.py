"""The network on Flower's Message API: the hub's ServerApp and each site's ClientApp.

Both are started by Flower (the SuperLink runs the ServerApp, each SuperNode its ClientApp) in processes
that inherit the node's environment, so each opens its own node's database through Django.
"""
