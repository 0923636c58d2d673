"""yearly"""
