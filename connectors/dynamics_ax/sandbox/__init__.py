"""connectors/dynamics_ax/sandbox"""
