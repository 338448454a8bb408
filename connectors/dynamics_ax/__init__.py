"""connectors/dynamics_ax"""
