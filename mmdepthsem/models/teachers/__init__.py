from .seg_teacher import SegTeacher

__all__ = ['SegTeacher']
